// The attention section of the page: pick one of the three kinds of attention (§3.2.3), a layer and a head, and
// see that head's weights softmax(Q K^T / sqrt(d_k)) (§3.2.1) as a heatmap labelled with the tokens.

import type { AttentionMaps } from '../../src/inspect/attention.js';
import { ATTENTION_KINDS, axisLabel, tokenLabel, weightColour } from '../../src/inspect/palette.js';
import { drawHeatmap } from './heatmap-view.js';

export { axisLabel } from '../../src/inspect/palette.js';

/** The elements the view fills. */
export interface AttentionElements { kind: HTMLSelectElement; layer: HTMLSelectElement; heads: HTMLElement; map: HTMLElement; }

/** Wires the pickers; returns show(maps), which draws the current kind/layer/head of new maps. */
export function attentionView(els: AttentionElements): { show(maps: AttentionMaps): void } {
  let maps: AttentionMaps | undefined;
  let head = 0;
  els.kind.replaceChildren(...ATTENTION_KINDS.map((k) => new Option(k.title, k.key)));

  const kind = () => ATTENTION_KINDS.find((k) => k.key === els.kind.value)!;

  const render = (): void => {
    if (maps === undefined) return;
    const k = kind();
    const layer = Number(els.layer.value);
    const rows = k.rows(maps).map(tokenLabel);
    const cols = k.cols(maps).map(tokenLabel);
    drawHeatmap(els.map, {
      values: maps[k.key][layer]![head]!,
      colour: weightColour,
      caption: `${k.title}, layer ${layer + 1}, head ${head + 1} (${k.axes})`,
      rowLabels: k.rows(maps).map(axisLabel), // the same labels as `aiayn attention` draws; the readout shows whole tokens
      colLabels: k.cols(maps).map(axisLabel),
      describe: (i, j, w) => `${rows[i]} \u2192 ${cols[j]}: ${w.toFixed(4)}`,
    });
    Object.assign(els.map.dataset, { kind: k.key, layer: String(layer), head: String(head) });
    els.heads.querySelectorAll('button').forEach((button) => button.classList.toggle('selected', button.dataset['head'] === String(head)));
  };

  const fillLayers = (): void => {
    if (maps === undefined) return;
    const count = kind().key === 'encoderSelf' ? maps.layers.encoder : maps.layers.decoder;
    const current = Math.min(Number(els.layer.value) || 0, count - 1);
    els.layer.replaceChildren(...Array.from({ length: count }, (_, i) => new Option(`layer ${i + 1}`, String(i))));
    els.layer.value = String(current);
  };

  els.kind.addEventListener('change', () => { fillLayers(); render(); });
  els.layer.addEventListener('change', render);

  return {
    show(next) {
      maps = next;
      head = Math.min(head, next.heads - 1);
      els.heads.replaceChildren(...Array.from({ length: next.heads }, (_, h) => {
        const button = document.createElement('button');
        button.textContent = `head ${h + 1}`;
        button.dataset['head'] = String(h);
        button.dataset['testid'] = `head-${h}`;
        button.addEventListener('click', () => { head = h; render(); });
        return button;
      }));
      fillLayers();
      render();
    },
  };
}
