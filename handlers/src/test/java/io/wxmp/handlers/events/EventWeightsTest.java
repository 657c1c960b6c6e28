package io.wxmp.handlers.events;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class EventWeightsTest {
  @Test
  void theDefaultsWeighEachTypeAndImpressionsNothing() {
    EventWeights w = EventWeights.defaults();
    assertThat(w.weight("click")).isEqualTo(1f);
    assertThat(w.weight("like")).isEqualTo(2f);
    assertThat(w.weight("complete")).isEqualTo(3f);
    assertThat(w.weight("purchase")).isEqualTo(5f);
    assertThat(w.weight("quiz")).isEqualTo(2f);
    assertThat(w.weight("impression")).isZero();
    assertThat(w.positive("impression")).isFalse();
    assertThat(w.weight("refund")).isEqualTo(-5f);
    assertThat(w.weight("nonsense")).isZero();
    assertThat(EventWeights.parse(w.toString()).asMap()).isEqualTo(w.asMap());
  }

  @Test
  void aSettingIsParsedStrictly() {
    assertThat(EventWeights.parse(" click = 0.5 , purchase=9").weight("click")).isEqualTo(0.5f);
    assertThat(EventWeights.parse("click=1").weight("like")).isZero();
    assertThatThrownBy(() -> EventWeights.parse("")).hasMessageContaining("type=weight");
    assertThatThrownBy(() -> EventWeights.parse("click")).hasMessageContaining("is not type=weight");
    assertThatThrownBy(() -> EventWeights.parse("tap=1")).hasMessageContaining("unknown event type 'tap'");
    assertThatThrownBy(() -> EventWeights.parse("click=x")).hasMessageContaining("not a number");
    assertThatThrownBy(() -> EventWeights.parse("click=-1")).hasMessageContaining("0..100");
    assertThatThrownBy(() -> EventWeights.parse("click=NaN")).hasMessageContaining("0..100");
    assertThatThrownBy(() -> EventWeights.parse("impression=1")).hasMessageContaining("not positives");
    assertThatThrownBy(() -> EventWeights.parse("click=1,click=2")).hasMessageContaining("twice");
  }
}
