import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["node_modules/**"] },
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    rules: {
      // Controller data must always be rendered as text (Preact escapes it).
      "no-restricted-syntax": ["error", {
        selector: "JSXAttribute[name.name='dangerouslySetInnerHTML']",
        message: "never render controller data as HTML",
      }, {
        selector: "MemberExpression[property.name='innerHTML']",
        message: "never render controller data as HTML",
      }],
    },
  },
);
