/**
 * Who is using the UI (`GET /api/me`), shared with every page through a context so actions can
 * be disabled for viewers. In local mode auth is off and everyone is administrator.
 */
import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { Me } from './api/types.ts';

/** The signed-in user, or undefined while /api/me is loading. */
export const SessionContext = createContext<Me | undefined>(undefined);

/** The current session (undefined while loading). */
export const useSession = (): Me | undefined => useContext(SessionContext);

/**
 * True when the session may rebuild, cancel and release (operator or administrator, or auth
 * off). Unknown (session failed to load) offers the actions: the server checks roles anyway.
 */
export const canOperate = (me: Me | undefined): boolean => !me || !me.authEnabled || me.role === 'operator' || me.role === 'administrator';
