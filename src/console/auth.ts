/**
 * The console's login is the queue dashboard's (src/http/operatorGuard.ts): DASHBOARD_TOKEN as a
 * bearer token or as the password of HTTP basic auth. The basic-auth user name is who the audit
 * says approved a change; it is the operator's word, so it is cleaned and kept short.
 */

/** The user name a request authenticated as (`bearer` for a bearer token). */
export function consoleUser(header: string | undefined): string {
  const [scheme, value = ''] = (header ?? '').split(' ', 2);
  if (scheme?.toLowerCase() !== 'basic') return 'bearer';
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const name = (colon < 0 ? '' : decoded.slice(0, colon))
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f]/g, '')
    .trim()
    .slice(0, 64);
  return name === '' ? 'anonymous' : name;
}

/** How the audit names a console approval. */
export const approvedBy = (user: string): string => `console user ${JSON.stringify(user)}`;
