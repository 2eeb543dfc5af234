/* Whole numbers read from JSON without undefined behaviour: range-checked before any conversion. */
#include "util/jsonnum.h"
#include "util/banned.h"

bool json_whole_number(const cJSON *v, long lo, long hi, long *out)
{
	double d;

	if (!cJSON_IsNumber(v))
		return false;
	d = v->valuedouble;
	/* NaN fails both comparisons; the range check comes before the cast, which would be undefined outside it */
	if (!(d >= (double)lo && d <= (double)hi))
		return false;
	if ((double)(long)d != d)
		return false;
	*out = (long)d;
	return true;
}

long json_whole_number_or(const cJSON *v, long lo, long hi, long fallback)
{
	long n = fallback;

	return json_whole_number(v, lo, hi, &n) ? n : fallback;
}
