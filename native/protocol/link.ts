/**
 * The seam between the tether protocol and whatever carries its frames.
 *
 * On USB, one bulk transfer in each direction carries exactly one frame: the sender ends a frame
 * whose length is a multiple of wMaxPacketSize with a zero-length packet, so the receiver's
 * transferIn completes at the frame's end. `native/usb` adapts a W3C `USBDevice` to this interface
 * (host side); `native/virtual` implements the phone's side; tests use an in-memory pair.
 */
export interface FrameLink {
  /** Sends one frame as one transfer. Rejects with a TetherError when the link is gone. */
  send(frame: Uint8Array): Promise<void>;
  /**
   * Resolves with the next whole transfer (one frame), at most `maxLength` bytes: a longer
   * transfer is a framing violation (the caller resets the session). Rejects with a TetherError
   * when the link is gone.
   */
  receive(maxLength: number): Promise<Uint8Array>;
  /**
   * Optional, phone side: drops the frames this side queued but the peer has not read yet (a new
   * host's HELLO makes them leftovers of an earlier session, §4.4). Returns how many were dropped.
   */
  discardUnsent?(): number;
  /**
   * Optional, phone side: returns a received frame to the front of the receive queue, for the
   * link's next session (a new host's HELLO that arrived while an earlier session was open, §4.4).
   */
  putBack?(frame: Uint8Array): void;
  /** Releases the link; pending receives reject. Idempotent. */
  close(): Promise<void>;
}
