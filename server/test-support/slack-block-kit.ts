/**
 * Slack's published Block Kit limits, checked the way Slack refuses a payload (`invalid_blocks`):
 * each problem names where it is. Used by the Slack stand-in on every message and modal.
 */

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

function textProblems(text: unknown, where: string, max: number, plainOnly = false): string[] {
  if (!isObject(text)) return [`${where}: a text object is required`];
  if (text.type !== 'plain_text' && text.type !== 'mrkdwn') return [`${where}: text type must be plain_text or mrkdwn`];
  if (plainOnly && text.type !== 'plain_text') return [`${where}: must be plain_text`];
  if (typeof text.text !== 'string' || text.text.length === 0) return [`${where}: text must be a non-empty string`];
  return text.text.length > max ? [`${where}: ${text.text.length} characters, at most ${max}`] : [];
}

function elementProblems(element: unknown, where: string): string[] {
  if (!isObject(element)) return [`${where}: not an object`];
  const out: string[] = [];
  if (element.type === 'button') {
    out.push(...textProblems(element.text, `${where}.text`, 75, true));
    if (typeof element.action_id === 'string' && element.action_id.length > 255) out.push(`${where}.action_id: over 255 characters`);
    if (typeof element.value === 'string' && element.value.length > 2000) out.push(`${where}.value: over 2000 characters`);
    if (typeof element.url === 'string' && element.url.length > 3000) out.push(`${where}.url: over 3000 characters`);
    if (element.style !== undefined && element.style !== 'primary' && element.style !== 'danger') out.push(`${where}.style: primary or danger`);
    if (element.confirm !== undefined) {
      const confirm = element.confirm;
      if (!isObject(confirm)) out.push(`${where}.confirm: not an object`);
      else {
        out.push(...textProblems(confirm.title, `${where}.confirm.title`, 100, true));
        out.push(...textProblems(confirm.text, `${where}.confirm.text`, 300));
        out.push(...textProblems(confirm.confirm, `${where}.confirm.confirm`, 30, true));
        out.push(...textProblems(confirm.deny, `${where}.confirm.deny`, 30, true));
      }
    }
  } else if (element.type === 'plain_text' || element.type === 'mrkdwn') {
    out.push(...textProblems(element, where, 3000));
  } else if (element.type === 'plain_text_input') {
    if (typeof element.action_id !== 'string') out.push(`${where}.action_id: required`);
    if (typeof element.max_length === 'number' && element.max_length > 3000) out.push(`${where}.max_length: at most 3000`);
  } else {
    out.push(`${where}: element type ${String(element.type)} is not one this stand-in knows`);
  }
  return out;
}

function blockProblems(block: unknown, where: string): string[] {
  if (!isObject(block)) return [`${where}: not an object`];
  if (typeof block.block_id === 'string' && block.block_id.length > 255) return [`${where}.block_id: over 255 characters`];
  switch (block.type) {
    case 'header':
      return textProblems(block.text, `${where}.text`, 150, true);
    case 'section': {
      const out: string[] = [];
      if (block.text === undefined && block.fields === undefined) out.push(`${where}: a section needs text or fields`);
      if (block.text !== undefined) out.push(...textProblems(block.text, `${where}.text`, 3000));
      if (block.fields !== undefined) {
        if (!Array.isArray(block.fields) || block.fields.length > 10) out.push(`${where}.fields: at most 10`);
        else block.fields.forEach((field, index) => out.push(...textProblems(field, `${where}.fields[${index}]`, 2000)));
      }
      return out;
    }
    case 'context':
      if (!Array.isArray(block.elements) || block.elements.length === 0 || block.elements.length > 10) return [`${where}.elements: 1 to 10`];
      return block.elements.flatMap((element, index) => elementProblems(element, `${where}.elements[${index}]`));
    case 'actions':
      if (!Array.isArray(block.elements) || block.elements.length === 0 || block.elements.length > 25) return [`${where}.elements: 1 to 25`];
      return block.elements.flatMap((element, index) => elementProblems(element, `${where}.elements[${index}]`));
    case 'input':
      return [...textProblems(block.label, `${where}.label`, 2000, true), ...elementProblems(block.element, `${where}.element`)];
    case 'divider':
      return [];
    default:
      return [`${where}: block type ${String(block.type)} is not one this stand-in knows`];
  }
}

/** Problems with a message's blocks (at most 50) and fallback text. */
export function messageProblems(args: Json): string[] {
  const out: string[] = [];
  if (typeof args.text === 'string' && args.text.length > 40_000) out.push('text: over 40,000 characters');
  const blocks = args.blocks;
  if (blocks === undefined) return typeof args.text === 'string' ? out : ['text or blocks is required'];
  if (!Array.isArray(blocks)) return ['blocks: not a list'];
  if (blocks.length > 50) out.push(`blocks: ${blocks.length}, at most 50`);
  blocks.forEach((block, index) => out.push(...blockProblems(block, `blocks[${index}]`)));
  return out;
}

/** Problems with a modal view (title at most 24 characters, at most 100 blocks). */
export function modalProblems(view: unknown): string[] {
  if (!isObject(view) || view.type !== 'modal') return ['view: must be a modal'];
  const out = [...textProblems(view.title, 'view.title', 24, true)];
  if (view.submit !== undefined) out.push(...textProblems(view.submit, 'view.submit', 24, true));
  if (view.close !== undefined) out.push(...textProblems(view.close, 'view.close', 24, true));
  if (typeof view.private_metadata === 'string' && view.private_metadata.length > 3000) out.push('view.private_metadata: over 3000 characters');
  if (!Array.isArray(view.blocks) || view.blocks.length > 100) out.push('view.blocks: at most 100');
  else view.blocks.forEach((block, index) => out.push(...blockProblems(block, `view.blocks[${index}]`)));
  return out;
}
