package io.celerity.transport.amqp;

import com.rabbitmq.client.LongString;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Converts AMQP field-table values to the plain Java types the protocol layer uses, and back into
 * only the types py-amqp decodes as Celery expects (no Short, no byte[]).
 */
final class AmqpValues {

  private AmqpValues() {}

  static Map<String, Object> fromTable(Map<String, Object> table) {
    // sized for the table: a Celery message has ~20 headers, past the default capacity's resize
    Map<String, Object> out =
        new LinkedHashMap<>(table == null ? 16 : Math.max(16, table.size() * 4 / 3 + 1));
    if (table != null) {
      table.forEach((k, v) -> out.put(k, fromAmqp(v)));
    }
    return out;
  }

  @SuppressWarnings("unchecked")
  static Object fromAmqp(Object v) {
    if (v instanceof LongString s) {
      return s.toString();
    }
    if (v instanceof byte[] b) {
      return new String(b, java.nio.charset.StandardCharsets.UTF_8);
    }
    if (v instanceof List<?> l) {
      List<Object> out = new ArrayList<>(l.size());
      l.forEach(o -> out.add(fromAmqp(o)));
      return out;
    }
    if (v instanceof Map<?, ?> m) {
      return fromTable((Map<String, Object>) m);
    }
    if (v instanceof BigDecimal d) {
      return d.doubleValue();
    }
    if (v instanceof Date d) {
      return d.toInstant().toString();
    }
    if (v instanceof Short s) {
      return s.intValue();
    }
    if (v instanceof Byte b) {
      return b.intValue();
    }
    return v;
  }

  static Map<String, Object> toTable(Map<String, Object> map) {
    if (map == null) {
      return null;
    }
    Map<String, Object> out = new LinkedHashMap<>();
    map.forEach((k, v) -> out.put(k, toAmqp(v)));
    return out;
  }

  @SuppressWarnings("unchecked")
  static Object toAmqp(Object v) {
    if (v == null
        || v instanceof String
        || v instanceof Integer
        || v instanceof Long
        || v instanceof Boolean
        || v instanceof Double) {
      return v;
    }
    if (v instanceof Short || v instanceof Byte) {
      return ((Number) v).intValue();
    }
    if (v instanceof Float f) {
      return f.doubleValue();
    }
    if (v instanceof BigInteger b) {
      return b.bitLength() < 64 ? (Object) b.longValue() : b.toString();
    }
    if (v instanceof BigDecimal d) {
      return d.doubleValue();
    }
    if (v instanceof List<?> l) {
      List<Object> out = new ArrayList<>(l.size());
      l.forEach(o -> out.add(toAmqp(o)));
      return out;
    }
    if (v instanceof Map<?, ?> m) {
      return toTable((Map<String, Object>) m);
    }
    return v.toString();
  }
}
