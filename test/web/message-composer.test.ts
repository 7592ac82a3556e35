// @vitest-environment happy-dom
import { mount } from '@vue/test-utils';
import { beforeEach, describe, expect, it } from 'vitest';
import MessageComposer from '../../web/src/components/MessageComposer.vue';
import { i18nPlugin, setLocale } from '../../web/src/i18n';

describe('the message composer', () => {
  beforeEach(() => setLocale('en'));

  it('says "typing" while a reply is written, never while an internal note is', async () => {
    const composer = mount(MessageComposer, { props: { allowInternal: true }, global: { plugins: [i18nPlugin] } });
    const input = composer.get('[data-testid="composer-input"]');
    await composer.get('[data-testid="internal-toggle"]').setValue(true);
    await input.setValue('Probably the battery.');
    expect(composer.emitted('typing')).toBeUndefined();

    await composer.get('[data-testid="internal-toggle"]').setValue(false);
    await input.setValue('Hi Erin, please hold the power button.');
    expect(composer.emitted('typing')).toHaveLength(1);
  });
});
