import { TetherError } from '../../common/errors';

/** Which views of the one lab pool run (docs/lab.md "Views"). */
export const LAB_VIEWS = ['internal', 'external', 'both'] as const;
export type LabView = (typeof LAB_VIEWS)[number];

export function parseLabView(value: string): LabView {
  if (!(LAB_VIEWS as readonly string[]).includes(value)) {
    throw new TetherError('BAD_INPUT', `The lab's view must be ${LAB_VIEWS.join(', ')}, not '${value.slice(0, 40)}'.`);
  }
  return value as LabView;
}
