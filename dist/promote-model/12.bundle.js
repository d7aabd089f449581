"use strict";exports.id=12,exports.ids=[12],exports.modules={1012:(s,r,e)=>{e.d(r,{fromEnv:()=>o.sF});var o=e(3615)}};
//# sourceMappingURL=12.bundle.js.map