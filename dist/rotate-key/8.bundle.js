"use strict";exports.id=8,exports.ids=[8],exports.modules={4008:(s,r,e)=>{e.d(r,{fromEnv:()=>o.sF});var o=e(3099)}};
//# sourceMappingURL=8.bundle.js.map