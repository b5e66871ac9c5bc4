package io.celerity.examples;

import java.math.BigInteger;

/**
 * Python-like arithmetic on JSON numbers: integers stay integers (of any size), floats stay floats.
 */
final class Numbers {

  private Numbers() {}

  static Number add(Number x, Number y) {
    if (isIntegral(x) && isIntegral(y)) {
      return normalise(big(x).add(big(y)));
    }
    return x.doubleValue() + y.doubleValue();
  }

  static Number mul(Number x, Number y) {
    if (isIntegral(x) && isIntegral(y)) {
      return normalise(big(x).multiply(big(y)));
    }
    return x.doubleValue() * y.doubleValue();
  }

  private static boolean isIntegral(Number n) {
    return n instanceof Integer
        || n instanceof Long
        || n instanceof BigInteger
        || n instanceof Short
        || n instanceof Byte;
  }

  private static BigInteger big(Number n) {
    return n instanceof BigInteger b ? b : BigInteger.valueOf(n.longValue());
  }

  private static Number normalise(BigInteger b) {
    return b.bitLength() < 64 ? (Number) b.longValue() : b;
  }
}
