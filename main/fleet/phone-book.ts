import type { PhoneInfo, PhoneState, SignInKind } from '../../common/service/contract';
import { findModel, type Catalogue } from '../../native/usb/catalogue';
import { guessModel } from '../../native/usb/models';
import type { FleetEvent } from '../device/manager';

/**
 * Every phone the fleet has seen, with one explicit state each (the contract's PhoneState, as adb's
 * ConnectionState): what the bus says (attached, gone, held by another program) combined with what
 * the phone's job says (pairing, provisioning, rebooting, signed in, failed, cancelled).
 */

interface Entry {
  serial: string;
  modelId: string;
  firmware: string | null;
  virtual: boolean;
  present: boolean;
  inUse: boolean;
  jobId: string | null;
  jobState: PhoneState | null;
  detail: string | null;
}


export class PhoneBook {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly catalogue: Catalogue) {}

  /** Applies a fleet event; true when the list changed. */
  onFleet(e: FleetEvent): boolean {
    if (e.type === 'attach') {
      const id = e.phone.identity;
      const x = this.entry(id.serial, id.modelId, e.phone.source === 'virtual');
      x.firmware = id.firmwareVersion;
      x.present = true;
      x.inUse = false;
      return true;
    }
    if (e.type === 'detach') {
      const x = this.entries.get(e.phone.identity.serial);
      if (!x) return false;
      x.present = false;
      return true;
    }
    // Another program holds the interface: a state the person sees, not a failed job.
    if (e.error.code === 'USB_INTERFACE_BUSY' && e.serial !== null) {
      const x = this.entry(e.serial, guessModel(e.vendorId, e.productId, this.catalogue).model?.id ?? 'unknown', e.source === 'virtual');
      x.inUse = true;
      x.present = true;
      x.detail = 'in use by another program';
      return true;
    }
    return false;
  }

  /** The job working on this phone moved on (null state: the job let go of the phone). */
  setJob(serial: string, jobId: string | null, state: PhoneState | null, detail: string | null = null): void {
    const x = this.entries.get(serial) ?? this.entry(serial, 'unknown', false);
    x.jobId = jobId;
    x.jobState = state;
    x.detail = detail;
  }

  state(serial: string): PhoneState | null {
    const x = this.entries.get(serial);
    return x ? this.stateOf(x) : null;
  }

  list(): PhoneInfo[] {
    return [...this.entries.values()].map((x) => {
      const model = findModel(x.modelId, this.catalogue);
      const kinds: SignInKind[] = model?.pinAuth === false ? ['ntlm'] : ['pin', 'ntlm'];
      return {
        serial: x.serial,
        modelId: x.modelId,
        modelName: model?.name ?? x.modelId,
        firmware: x.firmware,
        state: this.stateOf(x),
        virtual: x.virtual,
        jobId: x.jobId,
        signInKinds: kinds,
        detail: x.detail,
      };
    });
  }

  private stateOf(x: Entry): PhoneState {
    if (x.inUse) return 'in-use';
    // A phone rebooting into new firmware leaves the bus for a while: that is its job's state, not an unplug.
    if (x.jobState === 'rebooting' || (x.jobState === 'connecting' && x.jobId !== null)) return x.jobState;
    if (!x.present) return 'unplugged';
    if (x.jobState !== null) return x.jobState;
    return 'ready';
  }

  private entry(serial: string, modelId: string, virtual: boolean): Entry {
    let x = this.entries.get(serial);
    if (!x) {
      x = { serial, modelId, firmware: null, virtual, present: false, inUse: false, jobId: null, jobState: null, detail: null };
      this.entries.set(serial, x);
    } else if (x.modelId === 'unknown') x.modelId = modelId;
    return x;
  }
}

