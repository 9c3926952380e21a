/**
 * A uPlot chart, loaded on first use: uPlot and its CSS are a separate chunk fetched with a
 * dynamic import, so pages without charts never download them.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type uPlotType from 'uplot';

type UPlotCtor = typeof uPlotType;
let loading: Promise<UPlotCtor> | undefined;

/** Loads uPlot once. */
function loadUPlot(): Promise<UPlotCtor> {
  loading ??= Promise.all([import('uplot'), import('uplot/dist/uPlot.min.css')]).then(([m]) => m.default);
  return loading;
}

/** Draws `data` with `options` (width follows the container); `label` describes the chart for screen readers. */
export function Chart({ options, data, label }: { options: Omit<uPlotType.Options, 'width'>; data: uPlotType.AlignedData; label: string }) {
  const box = useRef<HTMLDivElement>(null);
  const [failed, setFailed] = useState<string | undefined>();

  useEffect(() => {
    let plot: uPlotType | undefined;
    let ro: ResizeObserver | undefined;
    let stopped = false;
    loadUPlot().then(
      (UPlot) => {
        const el = box.current;
        if (stopped || !el) return;
        plot = new UPlot({ ...options, width: Math.max(200, el.clientWidth) } as uPlotType.Options, data, el);
        ro = new ResizeObserver(() => plot?.setSize({ width: Math.max(200, el.clientWidth), height: options.height }));
        ro.observe(el);
      },
      (err: Error) => setFailed(err.message),
    );
    return () => {
      stopped = true;
      ro?.disconnect();
      plot?.destroy();
    };
  }, [options, data]);

  return (
    <figure class="chart" role="img" aria-label={label}>
      {failed ? <p class="error-box">The chart could not be loaded: {failed}</p> : null}
      <div ref={box} />
    </figure>
  );
}
