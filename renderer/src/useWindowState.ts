import { useEffect, useReducer } from 'react';
import type { TetherService } from '../../common/service/contract';
import { INITIAL_STATE, reduce, type WindowAction, type WindowState } from './state';

/** Subscribes to every service event and loads what is there already (phones, unfinished jobs). */
export function useWindowState(service: TetherService, onStatus?: (l: (c: boolean) => void) => void): [WindowState, (a: WindowAction) => void] {
  const [state, dispatch] = useReducer(reduce, INITIAL_STATE);
  useEffect(() => {
    const offs = [
      service.on('phones', (phones) => dispatch({ type: 'phones', phones })),
      service.on('job', (job) => dispatch({ type: 'job', job })),
      service.on('stage', (event) => dispatch({ type: 'stage', event })),
      service.on('progress', (event) => dispatch({ type: 'progress', event })),
      service.on('pairing', (event) => dispatch({ type: 'pairing', event })),
      service.on('needsCredentials', (event) => dispatch({ type: 'needs-credentials', event })),
    ];
    let live = true;
    onStatus?.((connected) => live && dispatch({ type: 'connected', connected }));
    void service.listPhones({}).then((phones) => live && dispatch({ type: 'phones', phones }), () => undefined);
    void service.jobs({}).then((jobs) => live && dispatch({ type: 'jobs', jobs }), () => undefined);
    return () => {
      live = false;
      for (const off of offs) off();
    };
  }, [service, onStatus]);
  return [state, dispatch];
}
