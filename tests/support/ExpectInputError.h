// The check the unit tests make of a bad-input message: the exact one-line InputError text.
#pragma once

#include <string>

#include <gtest/gtest.h>

#include "common/Types.h"

namespace tlmmu {

// Expects `fn` to throw InputError whose what() is exactly `message`.
template <class Fn> void expectInputError(Fn fn, const std::string& message) {
    try {
        fn();
        ADD_FAILURE() << "no InputError, expected: " << message;
    } catch (const InputError& e) {
        EXPECT_EQ(std::string(e.what()), message);
    }
}

} // namespace tlmmu
