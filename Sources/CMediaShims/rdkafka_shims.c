#include "rdkafka_shims.h"
