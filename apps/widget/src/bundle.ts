/**
 * The single-file build (`dist/jobwatch-widget.js`): everything bundled, the elements
 * defined on load. For `<script type="module" src=".../jobwatch-widget.js">`.
 *
 * @packageDocumentation
 */
import './define.js';

export { defineElements } from './define.js';
export * from './index.js';
