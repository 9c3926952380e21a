/**
 * The stage tree as an ARIA tree: one tab stop, arrow keys move (↑/↓), collapse or go to the
 * parent (←), expand or go to the first child (→), Home/End jump, Enter/Space show that stage's
 * log. Each node shows its status as icon + text, its duration, and whether a re-run reused it.
 */
import { useLayoutEffect, useRef, useState } from 'preact/hooks';
import { StatusBadge } from '../components/status-badge.tsx';
import { elapsedSeconds, formatDuration } from '../format.ts';
import { type StageNode, visibleNodes } from './stage-tree.ts';

export interface StageTreeProps {
  roots: StageNode[];
  selected: string | undefined;
  onSelect: (key: string) => void;
}

const KIND_LABEL: Record<string, string> = { parallel: 'parallel', service: 'service', builtin: 'built-in' };

/** The collapsible, keyboard-navigable stage tree. */
export function StageTreeView({ roots, selected, onSelect }: StageTreeProps) {
  const [collapsed, setCollapsed] = useState<Set<string>>(() => new Set());
  const [focusKey, setFocusKey] = useState<string | undefined>(selected);
  const list = useRef<HTMLUListElement>(null);
  const focusOnRender = useRef(false);
  const visible = visibleNodes(roots, collapsed);
  const active = visible.find((n) => n.key === focusKey) ?? visible.find((n) => n.key === selected) ?? visible[0];

  useLayoutEffect(() => {
    if (!focusOnRender.current || !active) return;
    focusOnRender.current = false;
    list.current?.querySelector<HTMLElement>(`[data-key="${CSS.escape(active.key)}"]`)?.focus();
  });

  const parentOf = (key: string): StageNode | undefined => {
    const find = (nodes: StageNode[], parent?: StageNode): StageNode | undefined => {
      for (const n of nodes) {
        if (n.key === key) return parent;
        const f = find(n.children, n);
        if (f) return f;
      }
      return undefined;
    };
    return find(roots);
  };
  const toggle = (key: string, open?: boolean) =>
    setCollapsed((c) => {
      const next = new Set(c);
      const isOpen = !next.has(key);
      if ((open ?? !isOpen) === true) next.delete(key);
      else next.add(key);
      return next;
    });
  const move = (key: string | undefined) => {
    if (!key) return;
    focusOnRender.current = true;
    setFocusKey(key);
  };

  const onKeyDown = (e: KeyboardEvent, node: StageNode) => {
    const i = visible.indexOf(node);
    const expanded = node.children.length > 0 && !collapsed.has(node.key);
    switch (e.key) {
      case 'ArrowDown':
        move(visible[i + 1]?.key);
        break;
      case 'ArrowUp':
        move(visible[i - 1]?.key);
        break;
      case 'Home':
        move(visible[0]?.key);
        break;
      case 'End':
        move(visible.at(-1)?.key);
        break;
      case 'ArrowRight':
        if (node.children.length && !expanded) toggle(node.key, true);
        else if (expanded) move(node.children[0]!.key);
        break;
      case 'ArrowLeft':
        if (expanded) toggle(node.key, false);
        else move(parentOf(node.key)?.key);
        break;
      case 'Enter':
      case ' ':
        onSelect(node.key);
        break;
      default:
        return;
    }
    e.preventDefault();
  };

  const renderNode = (node: StageNode) => {
    const s = node.stage;
    const hasChildren = node.children.length > 0;
    const expanded = hasChildren && !collapsed.has(node.key);
    const seconds = s.durationMs != null ? s.durationMs / 1000 : s.status === 'running' ? elapsedSeconds(s.startedAt) : null;
    return (
      <li
        key={node.key}
        role="treeitem"
        aria-level={node.depth + 1}
        aria-selected={node.key === selected}
        aria-expanded={hasChildren ? expanded : undefined}
        data-key={node.key}
        data-stage={s.stage}
        data-status={s.status}
        tabIndex={node === active ? 0 : -1}
        onKeyDown={(e) => {
          if (e.currentTarget === e.target) onKeyDown(e, node);
        }}
        onClick={(e) => {
          e.stopPropagation();
          setFocusKey(node.key);
          onSelect(node.key);
        }}
      >
        <div class={`stage-row${node.key === selected ? ' selected' : ''}`} style={{ paddingLeft: `${node.depth * 1.1 + 0.3}rem` }}>
          {hasChildren ? (
            <span
              class="twisty"
              aria-hidden="true"
              onClick={(e) => {
                e.stopPropagation();
                toggle(node.key);
              }}
            >
              {expanded ? '▾' : '▸'}
            </span>
          ) : (
            <span class="twisty" aria-hidden="true" />
          )}
          <StatusBadge status={s.status} compact />
          <span class="stage-name" title={s.stage}>
            {s.parent && s.stage.startsWith(`${s.parent}/`) ? s.stage.slice(s.parent.length + 1) : s.stage}
          </span>
          {KIND_LABEL[s.kind] ? <span class="kind">{KIND_LABEL[s.kind]}</span> : null}
          {s.run > 1 ? <span class="kind">run {s.run}</span> : null}
          {s.reusedFrom ? (
            <span class="kind reused" title={`not run again: the result of build #${s.reusedFrom.buildNumber}`}>
              reused
            </span>
          ) : null}
          <span class="stage-duration">{formatDuration(seconds)}</span>
        </div>
        {s.message && s.status === 'failed' ? <div class="stage-message">{s.message}</div> : null}
        {expanded ? <ul role="group">{node.children.map(renderNode)}</ul> : null}
      </li>
    );
  };

  if (!roots.length) return <p class="muted">No stages yet.</p>;
  return (
    <ul class="stage-tree" role="tree" aria-label="Stages" ref={list}>
      {roots.map(renderNode)}
    </ul>
  );
}
