import i18n from 'i18next';
import { initReactI18next } from 'react-i18next';
import dayjs from 'dayjs';
import 'dayjs/locale/zh-cn';
import zhCN from './zh-CN';
import enUS from './en-US';

export type Lang = 'zh-CN' | 'en-US';
const KEY = 'elasticpool.lang';

function initialLang(): Lang {
  try {
    const v = window.localStorage.getItem(KEY);
    if (v === 'en-US' || v === 'zh-CN') return v;
  } catch {
    /* no storage */
  }
  return 'zh-CN';
}

void i18n.use(initReactI18next).init({
  resources: { 'zh-CN': { translation: zhCN }, 'en-US': { translation: enUS } },
  lng: initialLang(),
  fallbackLng: 'zh-CN',
  interpolation: { escapeValue: false },
  returnNull: false,
});
dayjs.locale(i18n.language === 'zh-CN' ? 'zh-cn' : 'en');

export function setLang(lang: Lang) {
  try {
    window.localStorage.setItem(KEY, lang);
  } catch {
    /* no storage */
  }
  dayjs.locale(lang === 'zh-CN' ? 'zh-cn' : 'en');
  void i18n.changeLanguage(lang);
  if (typeof document !== 'undefined') document.documentElement.lang = lang;
}

export default i18n;
