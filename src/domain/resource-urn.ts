/**
 * Altinn's rule for the `resource` extension and for resource filters: lower-case URNs only, as the real
 * service enforces (`UriExtensions.IsValidUrn`).
 */
const resourceUrnPattern = /^urn:[a-z0-9-]{1,30}(:[a-z0-9()+,.\-;$_!/]{1,100}){1,10}$/;

/** @example isValidResourceUrn('urn:altinn:resource:dodsbo.domstoladmin.api') // true */
export function isValidResourceUrn(value: string): boolean {
  return resourceUrnPattern.test(value);
}
