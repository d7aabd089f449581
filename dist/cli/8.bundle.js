"use strict";exports.id=8,exports.ids=[8],exports.modules={14008:(s,r,e)=>{e.d(r,{fromEnv:()=>o.sF});var o=e(83099)}};
//# sourceMappingURL=8.bundle.js.map