import type { ReadersChange } from '../api/knowledge';
import { useI18n } from '../i18n';
import { useConfirm } from './useConfirm';

/**
 * Before who may read changes: asks the server how many people the change lets in and shuts out,
 * and when anyone is, has the admin confirm with those numbers. Resolves true to go ahead; a
 * refused preview throws (the change would be refused too).
 */
export function useReadersChange() {
  const { t } = useI18n();
  const confirm = useConfirm();
  const people = (n: number) => (n === 1 ? t('readers.person') : t('readers.people', { n }));

  /** `beforeAsking`: a dialog the question would sit behind steps aside. */
  return async (preview: () => Promise<ReadersChange>, beforeAsking?: () => void): Promise<boolean> => {
    const { gain, lose } = await preview();
    if (!gain && !lose) return true;
    beforeAsking?.();
    const effect =
      gain && lose
        ? t('readers.loseAndGain', { lose: people(lose), gain: people(gain) })
        : lose
          ? t('readers.lose', { lose: people(lose) })
          : t('readers.gain', { gain: people(gain) });
    return confirm({
      title: t('readers.confirmTitle'),
      message: t('readers.summary', { effect }),
      action: t('readers.apply'),
    });
  };
}
