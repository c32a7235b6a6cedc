const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const escape = (text: string) => text.replace(/[&<>"']/g, (char) => ESCAPES[char] ?? char);

/** A small self-contained page for the end of a sign-in that did not work: what happened and where to go. */
export function signInPage(title: string, message: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(title)} · Greenlight</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#1b1f24}h1{font-size:1.4rem}a{color:#0b5cad}</style>
</head><body><main>
<h1>${escape(title)}</h1>
<p role="alert">${escape(message)}</p>
<p><a href="/">Back to Greenlight's sign-in page</a></p>
</main></body></html>
`;
}
