const MASK = '[redacted]';

/**
 * Connection-string options whose values are secrets: any password (`tlsCertificateKeyFilePassword`,
 * `proxyPassword`, ...), tokens and secrets, and `authMechanismProperties`, which carries cloud
 * credentials such as `AWS_SESSION_TOKEN`. Matched on the option's name, case-insensitively.
 */
const SECRET_OPTION_PARTS = ['password', 'secret', 'token', 'credential', 'authmechanismproperties'];

/**
 * A connection string fit for the log: the user information (`user:password@`) and the values of
 * secret options are replaced by `[redacted]`. Plain string operations, linear in the length.
 * Everything before the last `@` ahead of the options counts as user information, so a password
 * with an unescaped `/` or `@` is still hidden.
 */
export function redactUri(uri: string): string {
  const schemeEnd = uri.indexOf('://');
  if (schemeEnd < 0) return uri;
  const hostStart = schemeEnd + 3;
  const queryStart = uri.indexOf('?', hostStart);
  const beforeQuery = queryStart < 0 ? uri.length : queryStart;
  const at = uri.lastIndexOf('@', beforeQuery - 1);
  const head = at >= hostStart ? `${uri.slice(0, hostStart)}${MASK}${uri.slice(at, beforeQuery)}` : uri.slice(0, beforeQuery);
  if (queryStart < 0) return head;
  const options = uri.slice(queryStart + 1).split('&').map((part) => part.split(';').map(redactOption).join(';'));
  return `${head}?${options.join('&')}`;
}

function redactOption(option: string): string {
  const eq = option.indexOf('=');
  if (eq < 0) return option;
  const name = decodedName(option.slice(0, eq)).toLowerCase();
  return SECRET_OPTION_PARTS.some((part) => name.includes(part)) ? `${option.slice(0, eq)}=${MASK}` : option;
}

function decodedName(name: string): string {
  try {
    return decodeURIComponent(name);
  } catch {
    return name;
  }
}
