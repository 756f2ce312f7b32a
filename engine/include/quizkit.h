/* quizkit.h: the whole public engine API (libquizkit). */
#ifndef QUIZKIT_H
#define QUIZKIT_H

#include "quizkit/common.h"
#include "quizkit/calendar.h"
#include "quizkit/clock.h"
#include "quizkit/text.h"
#include "quizkit/csv.h"
#include "quizkit/rng.h"
#include "quizkit/uuid.h"
#include "quizkit/question.h"
#include "quizkit/key.h"
#include "quizkit/bundle.h"
#include "quizkit/engine.h"
#include "quizkit/member.h"
#include "quizkit/session.h"
#include "quizkit/history.h"
#include "quizkit/study.h"
#include "quizkit/points.h"
#include "quizkit/lesson.h"
#include "quizkit/competition.h"
#include "quizkit/hotseat.h"
#include "quizkit/pad.h"

#endif
