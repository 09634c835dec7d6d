/**
 * Set an own data property, even for the name `__proto__` (a plain assignment would change the object's
 * prototype instead): query, form and header names come from the client.
 */
export function setOwn<T>(record: Record<string, T>, key: string, value: T): void {
  if (key === '__proto__') {
    Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    record[key] = value;
  }
}
