#!/usr/bin/env node
// Committed entry point, so that npm links `millrace` at install time, before `tsc -b` has built dist/.
import "../dist/bin.js";
