/** Who an announcement is for, in the domain's terms; the transport turns it into its own addresses. */
export interface Audience {
  groups: string[];
  users: string[];
}

export const nobody = (): Audience => ({ groups: [], users: [] });
