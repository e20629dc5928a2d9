/** Drops undefined values so that optional properties stay absent (exactOptionalPropertyTypes). */
export function definedProps<T extends Record<string, unknown>>(
  values: T,
): { [K in keyof T]?: Exclude<T[K], undefined> } {
  const result: Record<string, unknown> = {};
  // for...in, not Object.entries: called for every pod and event of a list, and entries allocates an array per member.
  for (const key in values) {
    const value = values[key];
    if (value !== undefined && Object.hasOwn(values, key)) result[key] = value;
  }
  return result as { [K in keyof T]?: Exclude<T[K], undefined> };
}
