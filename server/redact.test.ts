import { describe, expect, it } from 'vitest';
import { redactUrl } from './redact.js';

describe('redactUrl', () => {
  it.each([
    ['postgres://greenlight:hunter2@db.internal:5432/greenlight', 'postgres://greenlight:***@db.internal:5432/greenlight'],
    ['postgres://:hunter2@db.internal/greenlight', 'postgres://:***@db.internal/greenlight'],
    ['postgres://u:hun/ter2@db.internal/greenlight', 'postgres://u:***@db.internal/greenlight'],
    ['postgres://u:p@ss@db.internal/greenlight', 'postgres://u:***@db.internal/greenlight'],
    ['postgres://u@db.internal/greenlight?password=hunter2&sslmode=require', 'postgres://u@db.internal/greenlight?password=***&sslmode=require'],
    ['postgres://u@db.internal/greenlight?sslmode=require&PASSWORD=hunter2', 'postgres://u@db.internal/greenlight?sslmode=require&PASSWORD=***'],
    ['postgres://u:hun#ter2@db.internal/greenlight', 'postgres://u:***@db.internal/greenlight'],
    ['postgres://u:hun?ter2@db.internal/greenlight', 'postgres://u:***@db.internal/greenlight'],
    ['postgres://u:hunter2@[::1]:5432/greenlight?options=a@b', 'postgres://u:***@[::1]:5432/greenlight?options=a@b'],
    ['postgres://u@db.internal/greenlight?sslpassword=hunter2', 'postgres://u@db.internal/greenlight?sslpassword=***'],
    ['postgres://u@db.internal/greenlight', 'postgres://u@db.internal/greenlight'],
  ])('hides the password of %s', (url, shown) => {
    expect(redactUrl(url)).toBe(shown);
    expect(redactUrl(url)).not.toMatch(/hunter2|hun.ter2|p@ss/);
  });
});
