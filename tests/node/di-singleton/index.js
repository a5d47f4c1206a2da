// SPDX-License-Identifier: BSD-2-Clause
// perfbpf's stand-in for the di-singleton package, which backtest-kit 19.5.0 declares but the
// reachable npm registry does not have: singleton(Class) is a class whose every `new` gives the
// same instance (the first one made), which is all backtest-kit uses of it.
'use strict';
exports.singleton = (Base) => {
  let instance;
  return new Proxy(Base, {
    construct(target, args, newTarget) {
      if (!instance) instance = Reflect.construct(target, args, newTarget);
      return instance;
    },
  });
};
