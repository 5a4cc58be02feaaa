// Helpers shared by the unit tests.
#pragma once

#include <string>

#include "tramite/scxml/parser.h"

namespace tramite::testing {

inline std::string sourcePath(const std::string& relative) {
  return std::string(TRAMITE_SOURCE_DIR) + "/" + relative;
}

// Parses a document that must be valid; fails the calling test otherwise.
inline scxml::ChartPtr mustParse(const std::string& xml) {
  scxml::ParseResult r = scxml::parseString(xml, "test.scxml", ".");
  if (!r.ok()) {
    ADD_FAILURE() << r.errorText();
  }
  return r.chart;
}

// Wraps states in an <scxml> element with the given datamodel.
inline std::string doc(const std::string& body, const std::string& datamodel = "null",
                       const std::string& attrs = "") {
  return "<scxml xmlns=\"http://www.w3.org/2005/07/scxml\" version=\"1.0\" datamodel=\"" +
         datamodel + "\" " + attrs + ">" + body + "</scxml>";
}

}  // namespace tramite::testing
