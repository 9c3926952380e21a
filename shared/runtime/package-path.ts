/**
 * Files the code reads at run time (migrations, the built UI, the builder bundle) are found
 * relative to the package root, whether the code runs from source (`shared/runtime/` is two
 * levels down) or from a bundle in `dist/` (the bundler defines `__PACKAGE_ROOT__` as the path
 * from that bundle back to the root).
 */
import { fileURLToPath } from 'node:url';

declare const __PACKAGE_ROOT__: string | undefined;

/** True when this code runs from a bundle in dist/ rather than from the TypeScript sources. */
export const isBundled: boolean = typeof __PACKAGE_ROOT__ === 'string';

const ROOT = new URL(typeof __PACKAGE_ROOT__ === 'string' ? __PACKAGE_ROOT__ : '../../', import.meta.url);

/** Absolute path of `rel` inside the package (a trailing slash is kept). */
export const packagePath = (rel: string): string => fileURLToPath(new URL(rel, ROOT));
