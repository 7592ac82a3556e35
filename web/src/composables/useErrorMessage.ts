import { ApiError } from '../api/client';
import { useI18n } from '../i18n';

/** What to tell the user when a request failed: the server's own message, else a generic one. */
export function useErrorMessage() {
  const { t } = useI18n();
  return (error: unknown): string => (error instanceof ApiError ? error.message : t('error.generic'));
}
