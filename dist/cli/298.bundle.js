"use strict";exports.id=298,exports.ids=[298],exports.modules={58298:(s,r,e)=>{e.d(r,{fromEnv:()=>o.sF});var o=e(83637)}};
//# sourceMappingURL=298.bundle.js.map