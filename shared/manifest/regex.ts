/**
 * Regular expressions written in manifests (branch and name patterns, `=~` in `when`, release
 * branches). They run on the dispatcher and builder against user-controlled text, so patterns
 * whose nested quantifiers can backtrack exponentially (`(a+)+`, `(.*)*`) are refused up front,
 * as are very long ones. JavaScript syntax is used; it agrees with Go's RE2 on the common subset.
 */

/** Longest pattern accepted. */
const MAX_PATTERN_LENGTH = 1000;

/** Why a pattern is refused as unsafe, or undefined when it is acceptable. */
export function unsafeRegexReason(pattern: string): string | undefined {
  if (pattern.length > MAX_PATTERN_LENGTH) return `pattern longer than ${MAX_PATTERN_LENGTH} characters`;
  // One frame per open group: whether a quantifier appeared inside it.
  const groups: boolean[] = [];
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\') {
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') inClass = true;
    else if (c === '(') groups.push(false);
    else if (c === ')') {
      const hadQuantifier = groups.pop() ?? false;
      const next = pattern[i + 1];
      const quantified = next === '*' || next === '+' || (next === '{' && /^\{\d*,\d*\}/.test(pattern.slice(i + 1)) && !/^\{\d+\}/.test(pattern.slice(i + 1)));
      if (hadQuantifier && quantified) return 'nested quantifiers such as (a+)+ can take exponential time';
      if (quantified && groups.length) groups[groups.length - 1] = true;
      if (hadQuantifier && groups.length) groups[groups.length - 1] = true;
    } else if ((c === '*' || c === '+' || c === '{') && groups.length) {
      groups[groups.length - 1] = true;
    }
  }
  return undefined;
}

/** Compiles a manifest pattern; throws SyntaxError when it is invalid or unsafe. */
export function compileUserRegex(source: string, flags = ''): RegExp {
  const reason = unsafeRegexReason(source);
  if (reason) throw new SyntaxError(`unsafe regular expression: ${reason}`);
  return new RegExp(source, flags);
}
