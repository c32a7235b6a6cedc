/** Whether two lists hold the same items, in any order (roles, groups, scopes: no repeats). */
export const sameMembers = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((item) => b.includes(item));
