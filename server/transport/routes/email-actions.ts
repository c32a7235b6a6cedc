import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { z } from 'zod';
import { LIMITS } from '../../../protocol/index.js';
import { readEmailAction, useEmailAction, type EmailActionResult } from '../../notify/email-actions.js';
import { emailActionPage } from '../email-action-pages.js';
import type { HttpDeps } from '../http-deps.js';
import { routeDoc } from '../route-docs.js';

const tokenParam = z.object({ token: z.string().max(128) });

const page = (description: string) => ({ description, content: { 'text/html': { schema: z.string() } } });
const pages = {
  404: page('the link is not valid'),
  409: page('already decided (who decided and when), or the vote the link casts would no longer count (whose vote is in, or whose quorum lines are full); nothing was decided'),
  410: page('the link has expired; nothing was decided'),
};
const docs = {
  show: routeDoc({
    summary: 'The confirm page of an email Approve/Deny link',
    description: 'Changes nothing (mail gateways open every link): shows what, who, why and risk, and a form that decides on POST. High and critical risk ask for the console unless the rule sets `emailApprove`.',
    tag: 'email',
    auth: 'none',
    params: tokenParam,
    responses: { 200: page('the confirm page'), 403: page('decide in the console (high or critical risk)'), ...pages },
  }),
  decide: routeDoc({
    summary: 'Decide through an email link',
    description: 'The form of the confirm page (`application/x-www-form-urlencoded`, an optional `comment`). Works once; decides as the approver the link was sent to (or, from the link of a delegate of several approvers, for the approver it names), through the same checks as every other decision, audited with `via: "email"`.',
    tag: 'email',
    auth: 'none',
    params: tokenParam,
    responses: { 200: page('decided, or the vote recorded'), 403: page('not decided: the console is needed, or the approver may not decide'), ...pages },
  }),
};

/**
 * The pages behind email Approve/Deny links. GET and HEAD only show a confirm page (mail gateways
 * fetch every link before a person clicks); the form's POST decides. The token in the address is the
 * only credential, so the pages are never cached and never send it on as a Referer.
 */
export const emailActionRoutes: FastifyPluginAsync<HttpDeps> = async (app, deps) => {
  // Only this plugin reads forms; the API stays JSON.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: LIMITS.comment * 12 + 1024 }, (_request, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(String(body))));
  });

  const consoleUrl = () => `${(deps.ctx.outbox?.publicUrl ?? '').replace(/\/+$/, '')}/`;
  const answer = (reply: FastifyReply, result: EmailActionResult) => {
    const page = emailActionPage(result, consoleUrl());
    return reply
      .code(page.status)
      .header('content-type', 'text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .header('referrer-policy', 'no-referrer')
      .header('x-robots-tag', 'noindex')
      .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
      .send(page.body);
  };
  const tokenOf = (params: unknown): string => tokenParam.safeParse(params).data?.token ?? '';

  app.get('/email-actions/:token', { schema: docs.show }, async (request, reply) => answer(reply, await readEmailAction(deps.ctx, tokenOf(request.params))));
  app.post('/email-actions/:token', { schema: docs.decide }, async (request, reply) => {
    const form = z.record(z.string(), z.unknown()).safeParse(request.body ?? {});
    return answer(reply, await useEmailAction(deps.ctx, tokenOf(request.params), form.success ? form.data : {}));
  });
};
