import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import prettier from 'eslint-config-prettier';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import vue from 'eslint-plugin-vue';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/*
 * `npm run lint` runs this after `prettier --check`: the recommended rules of ESLint,
 * typescript-eslint and eslint-plugin-vue (their layout rules off: Prettier owns layout), and
 * import-x/no-cycle, so no module imports one that imports it back (type-only imports excepted),
 * and the direction of imports between the top-level folders.
 */
export default defineConfig([
  globalIgnores(['node_modules/', 'web/dist/', 'data/', 'bench/results/', 'test-artifacts/']),
  {
    files: ['**/*.{ts,vue,js,mjs}'],
    extends: [js.configs.recommended, tseslint.configs.recommended, vue.configs['flat/recommended']],
    languageOptions: { globals: globals.node },
  },
  {
    // The script of a .vue file is TypeScript; import-x/no-cycle hands .ts files' options to the
    // Vue parser when it follows an import into a .vue file, so every file carries it.
    files: ['**/*.{ts,vue,js,mjs}'],
    languageOptions: { parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.vue'] } },
  },
  {
    rules: {
      // Deliberate throughout: binary sniffing and input sanitising match control characters by \x escapes.
      'no-control-regex': 'off',
      // An unused parameter or binding is named with a leading _ where the signature or a rest pattern needs it
      // (Express knows an error handler by its four parameters; `{ omitted: _, ...rest }`).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
    },
  },
  {
    // renderMarkdown escapes raw HTML and sanitises its output with DOMPurify (web/src/utils/markdown.ts).
    files: ['web/src/components/MarkdownContent.vue'],
    rules: { 'vue/no-v-html': 'off' },
  },
  {
    files: ['web/src/**'],
    languageOptions: { globals: globals.browser },
  },
  {
    files: ['**/*.{ts,vue,js,mjs}'],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.vue', '.js', '.mjs'] })],
      'import-x/extensions': ['.ts', '.vue', '.js', '.mjs'],
      'import-x/ignore': ['node_modules'],
      // Following an import into a .vue file needs the Vue parser (with TypeScript for its script).
      'import-x/parsers': { 'vue-eslint-parser': ['.vue'], '@typescript-eslint/parser': ['.ts', '.js', '.mjs'] },
    },
    rules: { 'import-x/no-cycle': ['error', { ignoreExternal: true }] },
  },
  {
    // The layers point one way: web → (types of) server ← workers; core below HTTP and WebSocket.
    files: ['server/**', 'workers/**', 'web/**'],
    rules: {
      'import-x/no-restricted-paths': [
        'error',
        {
          zones: [
            {
              target: './server/src/core',
              from: ['./server/src/http', './server/src/ws'],
              message: 'core is below the HTTP and WebSocket layers',
            },
            { target: './server', from: './workers', message: 'workers/ imports server/, never the reverse' },
            { target: ['./server', './workers'], from: './web', message: 'the server never imports the web app' },
          ],
        },
      ],
    },
  },
  {
    files: ['web/src/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/server/**', '**/workers/**'],
              allowTypeImports: true,
              message: 'the web app shares types with the server (import type), never its code',
            },
          ],
        },
      ],
    },
  },
  prettier,
]);
