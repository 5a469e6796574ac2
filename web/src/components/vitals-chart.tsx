// Blood pressure over time with uPlot (~50 KB, loaded only when a chart is shown).
import "uplot/dist/uPlot.min.css";
import { useEffect, useRef } from "react";
import uPlot from "uplot";

type Reading = { measuredAt: string; systolic: number; diastolic: number };
type Range = { systolicMin: number; systolicMax: number; diastolicMin: number; diastolicMax: number };

export default function VitalsChart({ readings, range }: { readings: Reading[]; range?: Range }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!box.current) return;
    const sorted = [...readings].sort((a, b) => Date.parse(a.measuredAt) - Date.parse(b.measuredAt));
    const x = sorted.map((r) => Date.parse(r.measuredAt) / 1000);
    const flat = (value: number | undefined) => sorted.map(() => value ?? null);
    const plot = new uPlot(
      {
        width: Math.min(box.current.clientWidth || 600, 720),
        height: 240,
        // The axis spans the readings shown. A lone reading gets an hour either side: uPlot itself widens a
        // single timestamp by 86400 / ms, which with seconds (ms = 1e-3) is 1000 days.
        scales: {
          x: {
            time: true,
            range: (_u, min, max) => {
              const lone = x.length > 0 && x[0] === x.at(-1) && min === x[0];
              return lone ? [min - 3600, min + 3600] : [min, max];
            },
          },
        },
        // The span in the DOM (the axis itself is drawn on a canvas), for the browser tests.
        hooks: {
          setScale: [
            (u, key) => {
              if (key === "x" && box.current)
                box.current.dataset.xSpanSeconds = String((u.scales.x?.max ?? 0) - (u.scales.x?.min ?? 0));
            },
          ],
        },
        series: [
          {},
          { label: "systolic", stroke: "#b3261e", width: 2 },
          { label: "diastolic", stroke: "#1d4ed8", width: 2 },
          { label: "systolic max", stroke: "#b3261e", dash: [4, 4] },
          { label: "diastolic min", stroke: "#1d4ed8", dash: [4, 4] },
        ],
      },
      [
        x,
        sorted.map((r) => r.systolic),
        sorted.map((r) => r.diastolic),
        flat(range?.systolicMax),
        flat(range?.diastolicMin),
      ],
      box.current,
    );
    return () => plot.destroy();
  }, [readings, range]);
  const last = readings[0];
  return (
    <figure>
      <div
        ref={box}
        role="img"
        aria-label={`Blood pressure, ${readings.length} reading${readings.length === 1 ? "" : "s"}`}
      />
      {last ? (
        <figcaption>
          Latest: {last.systolic}/{last.diastolic} mmHg
          {range
            ? ` (range ${range.systolicMin}–${range.systolicMax} / ${range.diastolicMin}–${range.diastolicMax})`
            : ""}
        </figcaption>
      ) : null}
    </figure>
  );
}
