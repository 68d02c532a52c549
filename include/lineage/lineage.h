/*
 * lineage/lineage.h — the lineagefs engine, all of it: include this one.
 */
#ifndef LINEAGE_LINEAGE_H
#define LINEAGE_LINEAGE_H

#include "lineage/base.h"
#include "lineage/parse.h"
#include "lineage/registry.h"
#include "lineage/ancestry.h"
#include "lineage/revoke.h"
#include "lineage/io.h"

#endif
