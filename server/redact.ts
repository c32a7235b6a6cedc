/** postgres://user:password@host/db → postgres://user:***@host/db, so a password never reaches a log or a message. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}
