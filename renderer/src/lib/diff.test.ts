import { describe, expect, it } from 'vitest';
import { diffStats, parseUnifiedDiff } from './diff.js';

const DIFF = `diff --git a/app.yaml b/app.yaml
index 1234567..89abcde 100644
--- a/app.yaml
+++ b/app.yaml
@@ -10,4 +10,5 @@ service:
   name: api
-  replicas: 2
+  replicas: 4
+  maxSurge: 1
   image: api:1.2
\\ No newline at end of file
`;

describe('parseUnifiedDiff', () => {
  const rows = parseUnifiedDiff(DIFF);

  it('classifies file headers, hunks, added, removed and context lines', () => {
    expect(rows.map((row) => row.kind)).toEqual(['file', 'note', 'file', 'file', 'hunk', 'context', 'del', 'add', 'add', 'context', 'note']);
  });

  it('numbers old and new lines from the hunk header', () => {
    const body = rows.filter((row) => ['context', 'add', 'del'].includes(row.kind) && row.oldLine !== null || row.newLine !== null);
    expect(body.map((row) => [row.kind, row.oldLine, row.newLine, row.text])).toEqual([
      ['context', 10, 10, '  name: api'],
      ['del', 11, null, '  replicas: 2'],
      ['add', null, 11, '  replicas: 4'],
      ['add', null, 12, '  maxSurge: 1'],
      ['context', 12, 13, '  image: api:1.2'],
    ]);
  });

  it('counts added and removed lines', () => {
    expect(diffStats(rows)).toEqual({ added: 2, removed: 1 });
  });

  it('restarts numbering at each hunk and handles several files', () => {
    const text = ['--- a/x', '+++ b/x', '@@ -1 +1 @@', '-a', '+b', '@@ -50,2 +50,2 @@', ' c', '-d', '+e', '--- a/y', '+++ b/y', '@@ -3,0 +4 @@', '+f'].join('\n');
    const parsed = parseUnifiedDiff(text);
    expect(parsed.find((row) => row.text === 'c')).toMatchObject({ oldLine: 50, newLine: 50 });
    expect(parsed.find((row) => row.text === 'e')).toMatchObject({ kind: 'add', newLine: 51 });
    expect(parsed.find((row) => row.text === 'f')).toMatchObject({ kind: 'add', newLine: 4 });
    expect(parsed.filter((row) => row.kind === 'file')).toHaveLength(4);
  });

  it('shows text that is not a diff as plain context, hiding nothing', () => {
    const parsed = parseUnifiedDiff('just a note\n+not really added');
    expect(parsed).toEqual([
      { kind: 'context', oldLine: null, newLine: null, text: 'just a note' },
      { kind: 'context', oldLine: null, newLine: null, text: '+not really added' },
    ]);
  });

  it('accepts CRLF line endings and an empty line inside a hunk', () => {
    const parsed = parseUnifiedDiff('@@ -1,3 +1,3 @@\r\n a\r\n\r\n-b\r\n+c\r\n');
    expect(parsed.map((row) => row.kind)).toEqual(['hunk', 'context', 'context', 'del', 'add']);
    expect(parsed[2]).toMatchObject({ oldLine: 2, newLine: 2, text: '' });
  });

  it('reads a removed "-- comment" or an added "++ x" inside a hunk as a changed line, not as the next file', () => {
    const rows = parseUnifiedDiff(['--- a/q.sql', '+++ b/q.sql', '@@ -1,2 +1,3 @@', '--- old comment', '+++ counter', ' SELECT 1;', '+DROP TABLE users;', '--- a/next.sql', '+++ b/next.sql', '@@ -1 +1 @@', '-a', '+b'].join('\n'));
    expect(rows.map((row) => `${row.kind} ${row.text}`)).toEqual([
      'file --- a/q.sql',
      'file +++ b/q.sql',
      'hunk @@ -1,2 +1,3 @@',
      'del -- old comment',
      'add ++ counter',
      'context SELECT 1;',
      'add DROP TABLE users;',
      'file --- a/next.sql',
      'file +++ b/next.sql',
      'hunk @@ -1 +1 @@',
      'del a',
      'add b',
    ]);
    expect(diffStats(rows)).toEqual({ added: 3, removed: 2 });
  });

  it('returns no rows for an empty diff', () => {
    expect(parseUnifiedDiff('')).toEqual([]);
  });
});
