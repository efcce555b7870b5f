/** Jest setup: shared matchers. */
import './helpers/matchers';
