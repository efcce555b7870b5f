/** Worker-thread entry for the ONNX fuzz test: TypeScript through the test require hook, then the loop. */
'use strict';
require('../helpers/ts-register.js');
require('./onnx-fuzz-run.ts').workerMain();
