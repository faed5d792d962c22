import { describe, expect, it } from 'vitest';
import { ContractError, validateCall } from '../../../common/service/contract';

const JOB = 'job-0000001';

describe('validateCall', () => {
  // JSON.parse makes these own keys; a check with `in` took them for the validator's own fields.
  it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf'])('refuses an extra field named %s', (key) => {
    const args = JSON.parse(`{"jobId":"${JOB}","${key}":{"polluted":true}}`) as unknown;
    expect(() => validateCall('cancel', args)).toThrow(ContractError);
    expect(() => validateCall('cancel', args)).toThrow(/no such field/);
  });

  it('refuses such a field on a call with no arguments', () => {
    expect(() => validateCall('listPhones', JSON.parse('{"constructor":1}'))).toThrow(/no such field/);
  });

  it('still takes the exact arguments', () => {
    expect(validateCall('cancel', { jobId: JOB })).toEqual({ name: 'cancel', args: { jobId: JOB } });
    expect(validateCall('jobs', {})).toEqual({ name: 'jobs', args: {} });
  });

  it('refuses a call named after an Object.prototype member', () => {
    expect(() => validateCall('constructor', {})).toThrow(/unknown call/);
    expect(() => validateCall('__proto__', {})).toThrow(/unknown call/);
  });
});
