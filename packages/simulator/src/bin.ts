#!/usr/bin/env node
import { runSimulatorCli } from './cli.js';

process.exitCode = await runSimulatorCli(process.argv.slice(2));
