import { css, html, type SVGTemplateResult, svg, type TemplateResult } from 'lit';
import type { ToneValue } from './view.js';

/** The dark palette: one definition for `prefers-color-scheme: dark` and `theme="dark"`. */
const darkPalette = css`
  --_bg: var(--jobwatch-bg, #0d1117);
  --_fg: var(--jobwatch-fg, #e6edf3);
  --_muted: var(--jobwatch-muted, #9198a1);
  --_border: var(--jobwatch-border, #3d444d);
  --_running: var(--jobwatch-running, #4493f8);
  --_success: var(--jobwatch-success, #3fb950);
  --_failure: var(--jobwatch-failure, #f85149);
  --_cancelled: var(--jobwatch-cancelled, #9198a1);
  --_warning: var(--jobwatch-warning, #d29922);
  --_unknown: var(--jobwatch-unknown, #ab7df8);
  --_focus: var(--jobwatch-focus, #4493f8);
  color-scheme: dark;
`;

/**
 * Colours and spacing, each a `--jobwatch-*` custom property with a default. The defaults
 * meet WCAG AA (4.5:1) for text on the default background in both themes.
 */
export const themeStyles = css`
  :host {
    --_bg: var(--jobwatch-bg, #ffffff);
    --_fg: var(--jobwatch-fg, #1f2328);
    --_muted: var(--jobwatch-muted, #59636e);
    --_border: var(--jobwatch-border, #d1d9e0);
    --_running: var(--jobwatch-running, #0969da);
    --_success: var(--jobwatch-success, #1a7f37);
    --_failure: var(--jobwatch-failure, #cf222e);
    --_cancelled: var(--jobwatch-cancelled, #59636e);
    --_warning: var(--jobwatch-warning, #9a6700);
    --_unknown: var(--jobwatch-unknown, #8250df);
    --_focus: var(--jobwatch-focus, #0969da);
    --_radius: var(--jobwatch-radius, 6px);
    --_gap: var(--jobwatch-gap, 0.5rem);
    color-scheme: light;
    display: block;
    font: var(--jobwatch-font, 0.875rem/1.45 system-ui, sans-serif);
    color: var(--_fg);
  }
  :host([hidden]) {
    display: none;
  }
  @media (prefers-color-scheme: dark) {
    :host(:not([theme='light'])) {
      ${darkPalette}
    }
  }
  :host([theme='dark']) {
    ${darkPalette}
  }
  .sr-only {
    position: absolute;
    width: 1px;
    height: 1px;
    margin: -1px;
    overflow: hidden;
    clip-path: inset(50%);
    white-space: nowrap;
  }
  .tone-pending,
  .tone-running {
    --_tone: var(--_running);
  }
  .tone-success {
    --_tone: var(--_success);
  }
  .tone-failure {
    --_tone: var(--_failure);
  }
  .tone-cancelled {
    --_tone: var(--_cancelled);
  }
  .tone-warning {
    --_tone: var(--_warning);
  }
  .tone-unknown {
    --_tone: var(--_unknown);
  }
  svg.icon {
    width: 1.15em;
    height: 1.15em;
    flex: none;
    fill: none;
    stroke: currentColor;
    stroke-width: 2;
    stroke-linecap: round;
    stroke-linejoin: round;
  }
  .spin {
    animation: spin 1.2s linear infinite;
  }
  @keyframes spin {
    to {
      transform: rotate(360deg);
    }
  }
  @media (prefers-reduced-motion: reduce) {
    .spin {
      animation: none;
    }
  }
  :focus-visible {
    outline: 2px solid var(--_focus);
    outline-offset: 2px;
  }
  @media (forced-colors: active) {
    :host {
      --_tone: CanvasText;
    }
    [class*='tone-'] {
      --_tone: CanvasText;
      forced-color-adjust: auto;
    }
    :focus-visible {
      outline-color: Highlight;
    }
  }
`;

const ICONS: Record<ToneValue, SVGTemplateResult> = {
  pending: svg`<circle cx="12" cy="12" r="9"/><path d="M12 7v5l3 2"/>`,
  running: svg`<path d="M21 12a9 9 0 1 1-6.2-8.6"/>`,
  success: svg`<circle cx="12" cy="12" r="9"/><path d="m8 12.5 3 3 5-6"/>`,
  failure: svg`<circle cx="12" cy="12" r="9"/><path d="m9 9 6 6m0-6-6 6"/>`,
  cancelled: svg`<circle cx="12" cy="12" r="9"/><path d="m5.7 5.7 12.6 12.6"/>`,
  warning: svg`<path d="M12 3 2 20h20L12 3z"/><path d="M12 10v4m0 3v.01"/>`,
  unknown: svg`<circle cx="12" cy="12" r="9"/><path d="M9.5 9a2.5 2.5 0 1 1 3.5 2.3c-.6.3-1 .9-1 1.6v.6m0 3v.01"/>`,
};

/** The icon of a tone, hidden from assistive technology (the label says the same). */
export function icon(tone: ToneValue): TemplateResult {
  return html`<svg class="icon ${tone === 'running' ? 'spin' : ''}" part="icon" viewBox="0 0 24 24" aria-hidden="true" data-icon=${tone}>${ICONS[tone]}</svg>`;
}
