/**
 * The DOMExceptions a browser's WebUSB raises (Chromium's messages), so code written against
 * WebUSB sees the same failures from a virtual phone as from a real one.
 */
export const usbErrors = {
  notOpened: (): DOMException => new DOMException('The device must be opened first.', 'InvalidStateError'),
  noConfiguration: (): DOMException => new DOMException('The device must have a configuration selected.', 'InvalidStateError'),
  disconnected: (): DOMException => new DOMException('The device was disconnected.', 'NotFoundError'),
  aborted: (): DOMException => new DOMException('The transfer was cancelled.', 'AbortError'),
  configurationNotFound: (): DOMException =>
    new DOMException('The configuration value provided is not supported by the device.', 'NotFoundError'),
  interfaceNotFound: (): DOMException =>
    new DOMException('The interface number provided is not supported by the device in its current configuration.', 'NotFoundError'),
  interfaceNotClaimed: (): DOMException => new DOMException('The specified interface has not been claimed.', 'InvalidStateError'),
  alternateNotFound: (): DOMException =>
    new DOMException('The alternate setting provided is not supported by the device in its current configuration.', 'NotFoundError'),
  endpointNotFound: (): DOMException =>
    new DOMException('The specified endpoint is not part of a claimed and selected alternate interface.', 'NotFoundError'),
  endpointWrongType: (): DOMException =>
    new DOMException('The specified endpoint number does not refer to a bulk or interrupt endpoint.', 'InvalidAccessError'),
  claimFailed: (): DOMException => new DOMException('Unable to claim interface.', 'NetworkError'),
  badLength: (): DOMException => new DOMException('The length must be a non-negative integer.', 'TypeError'),
  notSupported: (what: string): DOMException => new DOMException(`${what} is not supported by this device.`, 'NotSupportedError'),
  busy: (): DOMException => new DOMException('An operation that changes the device state is in progress.', 'InvalidStateError'),
};
