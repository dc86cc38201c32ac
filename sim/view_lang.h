/* sim/view_lang.h — the languages the view and the audit can be labelled in (--lang). Its own
 * header so the commands that only pass a language along need not include the view model. */
#ifndef COURIER_SIM_VIEW_LANG_H
#define COURIER_SIM_VIEW_LANG_H

typedef enum sim_view_lang { SIM_LANG_EN = 0, SIM_LANG_ZH = 1 } sim_view_lang;

#endif
