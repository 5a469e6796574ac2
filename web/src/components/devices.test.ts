import { describe, expect, test } from "vitest";
import { deviceProblem } from "./devices.tsx";

const patient = "0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc";
const device = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";

describe("deviceProblem", () => {
  test("default: a new device's address (any case, spaces around) is accepted", () => {
    expect(deviceProblem(device, patient, [])).toBeUndefined();
    expect(deviceProblem(` ${device.toLowerCase()} `, patient, [])).toBeUndefined();
  });

  test("error: not an address, the zero address, the patient's own, one already listed", () => {
    expect(deviceProblem("0x1234", patient, [])).toMatch(/40 hexadecimal digits/);
    expect(deviceProblem(`0x${"0".repeat(40)}`, patient, [])).toMatch(/zero address/);
    expect(deviceProblem(patient.toLowerCase(), patient, [])).toMatch(/your own account/);
    expect(deviceProblem(device, patient, [device.toLowerCase()])).toMatch(/already authorized/);
  });
});
