#!/usr/bin/env node
// Part of the build: writes dist/openapi.json, the document GET /api/openapi.json serves,
// so the package ships it (`@jobwatch/daemon/openapi.json`).
import { writeFileSync } from 'node:fs';
import { openApiDocument } from '../dist/server/openapi.js';

const out = new URL('../dist/openapi.json', import.meta.url);
writeFileSync(out, `${JSON.stringify(openApiDocument(), null, 2)}\n`);
