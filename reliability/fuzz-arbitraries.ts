import fc from 'fast-check';
import { stringify as toYaml } from 'yaml';

/** What goes over the wire as an HTTP body: JSON of some value, raw text, or raw bytes. */
export type FuzzBody =
  | { kind: 'json'; value: unknown }
  | { kind: 'text'; text: string; contentType: string }
  | { kind: 'bytes'; bytes: Uint8Array };

const hugeString = fc.constantFrom(10_000, 100_000, 1_000_000, 2_500_000).chain((length) => fc.constantFrom('x', 'é', '漢', '\u0000', ' ').map((unit) => unit.repeat(length)));
/** Lone surrogates, control characters, overlong-looking escapes: text that is barely (or not quite) Unicode. */
const oddString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 64 }),
  fc.string({ unit: 'grapheme', maxLength: 64 }),
  fc.constantFrom('\uD800', '\uDFFF', 'a\uD800b', '\u0000', '\u202Edeploy', '\uFEFF', '%00', '../../etc/passwd', "' OR 1=1 --", '${jndi:ldap://x}', '__proto__', 'constructor'),
);
const smallScalar = fc.oneof(fc.constant(null), fc.boolean(), fc.integer(), fc.double(), fc.constantFrom(1e308, -0, Number.MAX_SAFE_INTEGER + 2), oddString);
// Huge strings are costly to build and send; a few percent of the values are enough to probe the limits.
const scalar = fc.oneof({ weight: 30, arbitrary: smallScalar }, { weight: 1, arbitrary: hugeString });

function nested(depth: number, leaf: unknown): unknown {
  let value = leaf;
  for (let i = 0; i < depth; i++) value = i % 2 ? [value] : { a: value };
  return value;
}
const deep = fc.integer({ min: 50, max: 3_000 }).map((depth) => nested(depth, 'bottom'));

/** Values shaped like `template` with each field possibly wrong: wrong types, odd text, extra keys, missing keys. */
function almost(template: Record<string, unknown>): fc.Arbitrary<unknown> {
  const field = (value: unknown) => fc.oneof({ weight: 2, arbitrary: fc.constant(value) }, { weight: 3, arbitrary: fc.oneof(scalar, fc.jsonValue({ maxDepth: 2 })) }, { weight: 1, arbitrary: deep });
  const shaped = fc.record(Object.fromEntries(Object.entries(template).map(([key, value]) => [key, field(value)])), { requiredKeys: [] });
  const extra = fc.dictionary(fc.oneof(oddString, fc.constantFrom('__proto__', 'constructor', 'status', 'requester', 'id', 'admin', 'roles')), scalar, { maxKeys: 3 });
  return fc.tuple(shaped, extra, fc.boolean()).map(([fields, more, addMore]) => (addMore ? { ...more, ...fields } : fields));
}

/** A value for an endpoint whose valid body looks like `template`. */
export function fuzzValue(template: Record<string, unknown>): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 4, arbitrary: almost(template) },
    { weight: 2, arbitrary: fc.jsonValue() },
    { weight: 1, arbitrary: scalar },
    { weight: 1, arbitrary: deep },
    { weight: 1, arbitrary: fc.array(almost(template), { maxLength: 3 }) },
  );
}

/** An HTTP body for an endpoint whose valid body looks like `template`. */
export function fuzzBody(template: Record<string, unknown>): fc.Arbitrary<FuzzBody> {
  const text = fc.oneof(
    fc.string({ maxLength: 200 }),
    fc.constantFrom('{', '{"a":', '[1,2', 'null', 'true', '"str"', '{"__proto__":{"admin":true}}', '{"constructor":{"prototype":{"x":1}}}', '{"a":1}{"b":2}', '\u0000', '{"action":"deploy",}', 'NaN', '1e999'),
    fc.integer({ min: 1_000, max: 50_000 }).map((depth) => '['.repeat(depth) + ']'.repeat(depth)),
    fc.integer({ min: 1_000, max: 20_000 }).map((depth) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth)),
  );
  return fc.oneof(
    { weight: 6, arbitrary: fuzzValue(template).map((value): FuzzBody => ({ kind: 'json', value })) },
    { weight: 2, arbitrary: fc.tuple(text, fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded', 'application/octet-stream')).map(([body, contentType]): FuzzBody => ({ kind: 'text', text: body, contentType })) },
    // Bytes that are not UTF-8 at all (0xC0 0xFF, truncated sequences) inside something JSON-like.
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }).map((bytes): FuzzBody => ({ kind: 'bytes', bytes: Uint8Array.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, ...bytes, 0xc0, 0xff, 0x22, 0x7d]) })) },
  );
}

const VALID_POLICY = `rules:
  - name: prod
    match: { action: deploy, environment: production }
    approvers: [sre]
    minApprovals: 2
    escalation:
      - { after: 5m, notify: [leads] }
    expireAfter: 1h
    grantTtl: 15m
`;

/** Policy files: random text, YAML of random values, near-valid rules, edits of a valid file, YAML bombs. */
export const policyText: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 300 }),
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.jsonValue().map((value) => toYaml(value)),
  fc
    .record({
      rules: fc.oneof(
        fc.array(
          fc.record(
            {
              name: fc.oneof(fc.constantFrom('prod', 'prod', 'a b', ''), oddString),
              match: fc.oneof(fc.record({ action: fc.oneof(fc.string(), fc.array(fc.string())), risk: fc.oneof(fc.string(), fc.constantFrom('low', 'high')) }, { requiredKeys: [] }), smallScalar),
              approvers: fc.oneof(fc.array(fc.oneof(fc.constant('sre'), oddString)), smallScalar),
              minApprovals: fc.oneof(fc.integer({ min: -5, max: 30 }), smallScalar),
              allowSelfApproval: fc.oneof(fc.boolean(), smallScalar),
              escalation: fc.oneof(fc.array(fc.record({ after: fc.oneof(fc.constantFrom('5m', '1s', '0s', '99999999999999999999999d', '-1m', '1.5h'), oddString), notify: fc.oneof(fc.array(fc.constantFrom('leads', 'a b', '')), smallScalar) }, { requiredKeys: [] })), smallScalar),
              expireAfter: fc.oneof(fc.constantFrom('1h', '0s', '1x', ''), smallScalar),
              grantTtl: fc.oneof(fc.constantFrom('15m', '7d'), smallScalar),
              autoApprove: fc.oneof(fc.boolean(), smallScalar),
              extra: smallScalar,
            },
            { requiredKeys: [] },
          ),
          { maxLength: 4 },
        ),
        smallScalar,
      ),
    }, { requiredKeys: [] })
    .map((value) => toYaml(value)),
  fc.tuple(fc.nat(VALID_POLICY.length), fc.nat(20), fc.string({ maxLength: 5 })).map(([at, cut, insert]) => VALID_POLICY.slice(0, at) + insert + VALID_POLICY.slice(at + cut)),
  fc.constantFrom(
    'a: &a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nrules: [*e]\n',
    '\uFEFFrules: []',
    'rules:\n\t- name: x',
    '!!js/function "function(){}"',
    'rules: !!binary AAAA',
    '%YAML 1.1\n---\nrules: ~',
    '---\nrules: []\n---\nrules: []\n',
    '['.repeat(2_000),
    '- '.repeat(5_000),
    '{a: '.repeat(3_000),
    Array.from({ length: 3_000 }, (_, depth) => `${' '.repeat(depth)}k:`).join('\n'),
  ),
);
